from idp.core.http import leave_site


def to_client(response, application):
    """Back to the application: a redirect, or after Gatehouse's own forms a page that moves
    on by itself (see idp.core.http.leave_site)."""
    location = response.headers.get("Location")
    if response.status_code not in (301, 302, 303) or not location:
        return response
    left = leave_site(location, application.name)
    return response if left.status_code == 303 else left
