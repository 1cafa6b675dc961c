"""Who may do what in procurement: `can_<verb>(user, obj) -> Decision`.

The supplier register is one for all programmes; quotes and purchase orders belong to a
grant and are reached through it (`permissions.can_view_application`: the centre). A
declared conflict of interest with a supplier bars choosing its quote, ordering from it
and approving an order to it; a purchase order needs a procurement officer and a finance
officer, neither its creator (docs/permissions.md, "Procurement")."""

from django.utils.translation import gettext_lazy as _

from applicants import roles
from core.decisions import ALLOWED, Decision

from . import permissions
from .models import ConflictDeclaration
from .workflow import State

CONFLICT = _("You declared a conflict of interest with this supplier.")


def has_conflict(user, supplier):
    return ConflictDeclaration.objects.filter(user_id=user.pk, supplier_id=supplier.pk).exists()


def can_view_suppliers(user):
    if not (roles.is_staff_member(user) and user.has_perm("grants.view_supplier")):
        return Decision(False, _("Your role does not see the supplier register."))
    return ALLOWED


def can_manage_suppliers(user):
    if not (roles.has_role(user, roles.PROCUREMENT_OFFICER) and user.has_perm("grants.change_supplier")):
        return Decision(False, _("Only procurement officers keep the supplier register."))
    return ALLOWED


def can_vet_supplier(user, supplier):
    managed = can_manage_suppliers(user)
    if not managed:
        return managed
    if not user.has_perm("grants.vet_supplier"):
        return Decision(False, _("Your role does not vet suppliers."))
    if has_conflict(user, supplier):
        return Decision(False, CONFLICT)
    return ALLOWED


def can_declare_conflict(user):
    if not (roles.is_staff_member(user) and user.has_perm("grants.add_conflictdeclaration")):
        return Decision(False, _("Your role does not declare conflicts of interest."))
    return ALLOWED


def can_view_procurement(user, application):
    """The quotes and purchase orders of a grant: whoever sees the grant and whose role
    reads procurement."""
    seen = permissions.can_view_application(user, application)
    if not seen:
        return seen
    if not (roles.is_staff_member(user) and user.has_perm("grants.view_purchaseorder")):
        return Decision(False, _("Your role does not see procurement."))
    return ALLOWED


def _may_buy(user, application, permission):
    seen = can_view_procurement(user, application)
    if not seen:
        return seen
    if not (roles.has_role(user, roles.PROCUREMENT_OFFICER) and user.has_perm(permission)):
        return Decision(False, _("Only procurement officers buy the equipment."))
    if permissions.is_party(user, application):
        return Decision(False, permissions.OWN_APPLICATION)
    if application.state != State.APPROVED:
        return Decision(False, _("Equipment is bought for approved grants only."))
    return ALLOWED


def can_add_quote(user, application):
    return _may_buy(user, application, "grants.add_supplierquote")


def can_choose_quote(user, quote, application):
    allowed = _may_buy(user, application, "grants.change_supplierquote")
    if not allowed:
        return allowed
    if has_conflict(user, quote.supplier):
        return Decision(False, CONFLICT)
    return ALLOWED


def can_create_purchase_order(user, application, supplier):
    allowed = _may_buy(user, application, "grants.add_purchaseorder")
    if not allowed:
        return allowed
    if has_conflict(user, supplier):
        return Decision(False, CONFLICT)
    return ALLOWED


def approval_slot(user, order):
    """Which of the two approvals `user` gives: "procurement" or "finance", or None."""
    if roles.has_role(user, roles.PROCUREMENT_OFFICER) and order.procurement_approved_by_id is None:
        return "procurement"
    if roles.has_role(user, roles.FINANCE_OFFICER) and order.finance_approved_by_id is None:
        return "finance"
    return None


def can_approve_purchase_order(user, order):
    application = order.application
    seen = can_view_procurement(user, application)
    if not seen:
        return seen
    if not user.has_perm("grants.approve_purchaseorder"):
        return Decision(False, _("Your role does not approve purchase orders."))
    if order.is_approved:
        return Decision(False, _("This purchase order is already approved."))
    if order.created_by_id == user.pk:
        return Decision(False, _("You created this purchase order; two other people approve it."))
    if user.pk in (order.procurement_approved_by_id, order.finance_approved_by_id):
        return Decision(
            False, _("You approved this purchase order already; another person gives the second approval.")
        )
    if permissions.is_party(user, application):
        return Decision(False, permissions.OWN_APPLICATION)
    if has_conflict(user, order.supplier):
        return Decision(False, CONFLICT)
    if approval_slot(user, order) is None:
        return Decision(False, _("The approval your role gives is already on this purchase order."))
    return ALLOWED


def can_print_purchase_order(user, order):
    return can_view_procurement(user, order.application)
