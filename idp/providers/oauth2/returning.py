from flask import make_response, render_template, request


def to_client(response, application):
    """Back to the application. A navigation that came from one of Gatehouse's own pages may
    be the end of a form's redirects, which the form's page CSP (form-action 'self') would
    stop at another origin: such visitors get a page that moves on by itself."""
    location = response.headers.get("Location")
    if response.status_code not in (301, 302, 303) or not location:
        return response
    if request.headers.get("Sec-Fetch-Site") != "same-origin":
        return response
    page = render_template(
        "providers/oauth2/continue.html", application=application, target=location
    )
    return make_response(page, 200)
