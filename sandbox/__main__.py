from sandbox.cli import app

app(prog_name="syncline sandbox")
