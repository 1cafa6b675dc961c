from django.core.management.base import BaseCommand, CommandError

from grants import documents


class Command(BaseCommand):
    help = (
        "Find stored objects under documents/ without a document row, and document rows "
        "whose object is gone; with --delete, remove both (a lost row leaves an audit event)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="Remove what was found.")
        parser.add_argument(
            "--older-than",
            type=int,
            default=60,
            metavar="MINUTES",
            help="Leave objects younger than this alone: an upload may still be saving its row (default 60).",
        )

    def handle(self, *args, delete, older_than, **options):
        if older_than < 0:
            raise CommandError("--older-than takes a number of minutes, 0 or more.")
        try:
            orphans = documents.find_orphans(older_than_minutes=older_than)
        except documents.STORAGE_ERRORS as exc:
            raise CommandError(f"The document store is not reachable: {exc}") from exc
        self.stdout.write(f"Objects without a document row: {len(orphans.objects)}")
        for orphan in orphans.objects:
            self.stdout.write(
                f"  {orphan.key}  {documents.human_size(orphan.size)}, stored {orphan.modified:%Y-%m-%d %H:%M}"
            )
        if orphans.young:
            self.stdout.write(
                f"  (and {orphans.young} younger than {older_than} minutes, left alone: uploads may be in progress)"
            )
        self.stdout.write(f"Document rows without an object: {len(orphans.rows)}")
        for document in orphans.rows:
            self.stdout.write(
                f"  document {document.pk} of application {document.application_id}, "
                f"{document.kind}, {document.original_name!r}: {document.file.name} is missing"
            )
        if not delete:
            if orphans.objects or orphans.rows:
                self.stdout.write("Run again with --delete to remove them.")
            return
        objects, rows = documents.remove_orphans(orphans)
        self.stdout.write(self.style.SUCCESS(f"Removed {objects} objects and {rows} document rows."))
