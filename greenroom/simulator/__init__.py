"""A protocol-compatible simulator of the Chaturbate Events API, for tests, demos and development.

`build_script` makes a deterministic room script; `SimulatorServer` serves it over HTTP(S) with
the upstream long-poll protocol and injectable faults; `start_demo_simulator` gives a fresh
install a live-looking feed with no credentials.
"""

from .faults import FAULT_KINDS, Fault, FaultRecord
from .script import Script, ScriptConfig, build_script
from .server import SimulatorServer

__all__ = ["FAULT_KINDS", "Fault", "FaultRecord", "Script", "ScriptConfig", "SimulatorServer", "build_script"]
