"""Authentication backend: Django's ModelBackend, with a user's model permissions
(their own and their groups') read in one query instead of two. Every page checks the
role and a permission or two; the result is cached on the user object for the request,
as Django's backend does, and `selectors.forget_permissions` drops it."""

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Permission

PATH = "applicants.backends.ModelBackend"


class ModelBackend(DjangoModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            permissions = Permission.objects.all()
            if not user_obj.is_superuser:
                own = Permission.user_set.through.objects.filter(user=user_obj).values("permission_id")
                via_groups = Permission.group_set.through.objects.filter(group__user=user_obj).values(
                    "permission_id"
                )
                permissions = permissions.filter(pk__in=own.union(via_groups))
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in permissions.values_list(
                    "content_type__app_label", "codename"
                ).order_by()
            }
        return user_obj._perm_cache
