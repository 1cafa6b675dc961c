"""Used by data migrations: groups for each role with exactly ROLE_PERMISSIONS."""

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
        group, _ = Group.objects.get_or_create(name=GROUP_NAMES[role])
        permissions = []
        for code in codes:
            app_label, codename = code.split(".")
            permissions.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(permissions)
