"""The owner's settings kept in the database (edited on the Admin page), over the environment's
defaults from ``greenroom.config``. Low in the layers so every feature can read them."""
