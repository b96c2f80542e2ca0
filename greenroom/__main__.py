from greenroom.cli import app

app()
