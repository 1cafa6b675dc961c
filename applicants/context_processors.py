from . import roles


def user_roles(request):
    """The roles the menu is drawn for. A staff session still waiting for its two-factor
    code has none: every page but the code page sends it back there, so a menu (or the
    devices link) would only lead back to where the person already is."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_roles": [], "awaiting_code": False}
    verified = getattr(user, "is_verified", None)
    if roles.needs_two_factor(user) and verified is not None and not verified():
        return {"user_roles": [], "awaiting_code": True}
    return {"user_roles": roles.roles_of(user), "awaiting_code": False}
