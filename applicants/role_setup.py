"""Used by data migrations: groups for each role with exactly ROLE_PERMISSIONS.

Run again by a new migration whenever ROLE_PERMISSIONS changes (never by hand)."""

from django.contrib.auth.management import create_permissions

from .roles import GROUP_NAMES, ROLE_PERMISSIONS


def sync_role_groups(apps, schema_editor=None):
    for app_config in apps.get_app_configs():
        # Migration states have no models module, which create_permissions needs.
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = original
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codes in ROLE_PERMISSIONS.items():
        # Found by its marker permission, so a renamed (translated) group stays the role's.
        group = (
            Group.objects.filter(
                permissions__content_type__app_label="applicants", permissions__codename=f"role_{role}"
            ).first()
            or Group.objects.get_or_create(name=GROUP_NAMES[role])[0]
        )
        wanted = [code.split(".") for code in codes]
        # An earlier migration runs before models named by a later mapping exist: those
        # permissions are given by the migration that comes with the mapping.
        permissions = [
            permission
            for app_label, codename in wanted
            for permission in Permission.objects.filter(content_type__app_label=app_label, codename=codename)[
                :1
            ]
        ]
        group.permissions.set(permissions)
