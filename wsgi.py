from idp import create_app

app = create_app()
