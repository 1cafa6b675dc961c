"""The printed table (also pasted into README "Performance") and the dataset's size."""


def dataset_counts():
    from django.contrib.auth import get_user_model

    from applicants import roles
    from applicants.models import Applicant, IntegrationCentre, IntegrationCentreUserObjectPermission
    from assessments.models import MonitoringVisit
    from grants.models import AuditEvent, Delivery, EquipmentItem, GrantApplication, Programme

    User = get_user_model()
    staff_groups = [f"role_{role}" for role in roles.STAFF_ROLES]
    return {
        "applications": GrantApplication.objects.count(),
        "applicants": Applicant.objects.count(),
        "centres": IntegrationCentre.objects.count(),
        "programmes": Programme.objects.count(),
        "equipment_items": EquipmentItem.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "deliveries": Delivery.objects.count(),
        "visits": MonitoringVisit.objects.count(),
        "staff_users": User.objects.filter(groups__permissions__codename__in=staff_groups).distinct().count(),
        "centre_permissions": IntegrationCentreUserObjectPermission.objects.count(),
    }


def _fmt_ms(value):
    return f"{value:,.1f}" if value else "–"


def _target(result):
    parts = []
    if result.get("target_ms"):
        parts.append(f"< {result['target_ms']:g} ms")
    if result.get("target_queries"):
        parts.append(f"≤ {result['target_queries']} q")
    return ", ".join(parts)


def _cpu(result):
    extra = result.get("extra") or {}
    if "app_ms" not in extra:
        return "–"
    db = extra.get("db_ms")
    return f"{extra['app_ms']:,.0f} + {db:,.0f}" if db is not None else f"{extra['app_ms']:,.0f} + ?"


def _met(flag):
    return {True: "yes", False: "**no**", None: ""}[flag]


def table(results):
    """Markdown tables: pages, comparisons, export, throughput."""
    lines = []
    m = results.get("machine", {})
    d = results.get("dataset", {})
    lines.append(
        f"Machine: {m.get('nproc')} CPUs ({m.get('cpu')}), {m.get('ram_gb')} GB RAM, PostgreSQL "
        f"{m.get('postgresql')} (shared_buffers {m.get('shared_buffers')}), Python {m.get('python')}, "
        f"Django {m.get('django')}."
    )
    lines.append(
        f"Data: {d.get('applications', 0):,} applications, {d.get('applicants', 0):,} applicants, "
        f"{d.get('centres')} centres, {d.get('programmes')} programmes, {d.get('equipment_items', 0):,} items, "
        f"{d.get('audit_events', 0):,} audit events, {d.get('deliveries', 0):,} deliveries, "
        f"{d.get('visits', 0):,} visits, {d.get('staff_users', 0):,} staff users."
    )
    load = [m.get("load_average_at_start"), m.get("load_average_at_end")]
    if all(load):
        lines.append(
            f"Load average (1, 5, 15 min) at the start {', '.join(map(str, load[0]))}, at the end "
            f"{', '.join(map(str, load[1]))}: anything above {m.get('nproc')} means other work shared the CPUs."
        )
    generation = results.get("generation")
    if generation:
        lines.append(f"Generated in {generation['seconds']:,} s (scale {generation['scale']:g}).")
    lines.append("")
    lines.append(
        f"Server time in-process over {results.get('runs')} requests each (django.test.Client, logged in):"
    )
    lines.append("")
    lines.append(
        "| page | served by | user | runs | median ms | p95 ms | CPU ms app + db | queries | target | met |"
    )
    lines.append("|---|---|---|---:|---:|---:|---:|---:|---|---|")
    for r in results.get("pages", []):
        if not r["status"]:
            lines.append(f"| {r['name']} | {r['note']} | | | – | – | – | – | {_target(r)} | |")
            continue
        if r["status"] != 200:
            lines.append(
                f"| {r['name']} | {r['note']} | {r['user']} | | – | – | – | – | {_target(r)} | HTTP {r['status']} |"
            )
            continue
        lines.append(
            f"| {r['name']} | {r['note']} | {r['user']} | {r['runs']} | {_fmt_ms(r['median_ms'])} | "
            f"{_fmt_ms(r['p95_ms'])} | {_cpu(r)} | {r['queries']} | {_target(r)} | {_met(r.get('met'))} |"
        )
    comparisons = results.get("comparisons") or {}
    if comparisons:
        lines.append("")
        lines.append("| comparison | ours ms | other ms | ratio | target |")
        lines.append("|---|---:|---:|---:|---|")
        for name, c in comparisons.items():
            if "raw_sql_floor_ms" in c:
                lines.append(
                    f"| {name}: ORM rows vs raw SQL floor | {c['orm_rows_ms']:.1f} | {c['raw_sql_floor_ms']:.1f} | "
                    f"×{c['ratio_rows_to_floor']:.2f} | ≤ ×{c['target_ratio']} |"
                )
                lines.append(
                    f"| {name}: count + rows vs raw SQL floor | {c['orm_count_and_rows_ms']:.1f} | "
                    f"{c['raw_sql_floor_ms']:.1f} | ×{c['ratio_with_count_to_floor']:.2f} | |"
                )
            else:
                lines.append(
                    f"| {name} changelist ({c['admin_rows_per_page']} rows, as {c['admin_user']}) | "
                    f"{c['inbox_ms']:.1f} | {c['admin_ms']:.1f} | ×{c['ratio']:.2f} | ≤ ×{c['target_ratio']} |"
                )
    from .donormem import line as donor_line

    if results.get("donor_report"):
        lines.append("")
        lines.append(donor_line(results["donor_report"]))
    export = results.get("export")
    if export:
        lines.append("")
        if export.get("rows"):
            lines.append(
                f"Export: {export['rows']:,} rows ({export['format']}, {export['bytes'] / 2**20:,.1f} MB) in "
                f"{export['seconds']:.1f} s; peak RSS of the exporting process {export['peak_rss_mb']:.0f} MB "
                f"(+{export['rss_growth_mb']:.0f} MB over its start), Python heap peak "
                f"{export['python_peak_mb']:.1f} MB; target < 150 MB: {_met(export['met'])}."
            )
        else:
            lines.append(f"Export: {export.get('note')}.")
    throughput = results.get("throughput")
    if throughput:
        lines.append("")
        lines.append("| transitions (approve) | workers | attempts | approved | per second | conflicts (409) | "
                     "refused: budget | errors | lost updates | over-committed |")  # fmt: skip
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for mode in throughput.get("modes", []):
            lines.append(
                f"| {mode['path']} | {mode['workers']} | {mode['attempts']} | {mode['approved']} | "
                f"{mode['per_second']:.1f} | {mode['conflicts']} | {mode['refused_budget']} | {mode['errors']} | "
                f"{mode['lost_updates']} | {mode['over_committed_programmes']} |"
            )
    return "\n".join(lines)
