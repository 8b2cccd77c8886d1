from indexlake.cli import app

app()
