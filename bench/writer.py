"""Bulk loading: rows as tuples straight into tables, with ids chosen in Python so that
foreign keys can be filled in before anything is written.

PostgreSQL gets COPY (psycopg 3), which loads a million audit rows in seconds; SQLite
(the smoke test) gets executemany with Django's own value preparation."""

import json

from django.core.management.color import no_style
from django.db import connection, models
from django.utils import timezone


class TableWriter:
    def __init__(self, progress=None):
        self.progress = progress
        self.rows_written = {}
        self.models = []

    def next_id(self, model):
        """The first free primary key; the loaders fill tables from there on."""
        top = model.objects.aggregate(top=models.Max("pk"))["top"]
        return (top or 0) + 1

    def write(self, model, fields, rows, label=None):
        """Insert `rows` (tuples in the order of `fields`, model field names) into the
        model's table. Returns the number of rows written."""
        opts = model._meta
        fields, rows = self._with_auto_now(opts, list(fields), rows)
        columns = [opts.get_field(name) for name in fields]
        if model not in self.models:
            self.models.append(model)
        bar = self.progress(desc=label or opts.db_table, unit="rows") if self.progress else None
        if connection.vendor == "postgresql":
            count = self._copy(opts.db_table, columns, rows, bar)
        else:
            count = self._insert(opts.db_table, columns, rows, bar)
        if bar is not None:
            bar.close()
        self.rows_written[opts.db_table] = self.rows_written.get(opts.db_table, 0) + count
        return count

    @staticmethod
    def _with_auto_now(opts, fields, rows):
        """A timestamp the model keeps by itself (`auto_now`, such as `updated_at`) that
        the generator does not give: the row's `created_at` (else now), as a save would."""
        missing = [
            f.name for f in opts.concrete_fields if getattr(f, "auto_now", False) and f.name not in fields
        ]
        if not missing:
            return fields, rows
        source = fields.index("created_at") if "created_at" in fields else None
        now = timezone.now()

        def stamped():
            for row in rows:
                stamp = row[source] if source is not None and row[source] is not None else now
                yield (*row, *([stamp] * len(missing)))

        return [*fields, *missing], stamped()

    def _copy(self, table, columns, rows, bar):
        json_at = [i for i, field in enumerate(columns) if isinstance(field, models.JSONField)]
        names = ", ".join(connection.ops.quote_name(field.column) for field in columns)
        count = 0
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        row[i] = json.dumps(row[i])
                copy.write_row(row)
                count += 1
                if bar is not None and count % 5000 == 0:
                    bar.update(5000)
        if bar is not None:
            bar.update(count % 5000)
        return count

    def _insert(self, table, columns, rows, bar):
        names = ", ".join(connection.ops.quote_name(field.column) for field in columns)
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
        count = 0
        batch = []
        with connection.cursor() as cursor:
            for row in rows:
                batch.append(
                    [
                        field.get_db_prep_save(value, connection)
                        for field, value in zip(columns, row, strict=True)
                    ]
                )
                if len(batch) == 2000:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
                    if bar is not None:
                        bar.update(2000)
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
                if bar is not None:
                    bar.update(len(batch))
        return count

    def skip_foreign_key_triggers(self):
        """On PostgreSQL (as a superuser), load without the per-row foreign-key triggers:
        `check_foreign_keys` then checks every key of the loaded tables in one anti-join
        each, which is minutes faster than a million row-by-row checks at COMMIT."""
        if connection.vendor != "postgresql":
            return False
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if not cursor.fetchone()[0]:
                return False
            cursor.execute("SET LOCAL session_replication_role = replica")
        self.triggers_skipped = True
        return True

    def check_foreign_keys(self):
        """Every foreign key of the loaded tables points at a row (PostgreSQL); raises
        with the constraint's name otherwise."""
        if not getattr(self, "triggers_skipped", False):
            return 0
        tables = [model._meta.db_table for model in self.models]
        checked = 0
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
            cursor.execute(
                """
                SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text,
                       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
                       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
                  FROM pg_constraint c
                 WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)
                """,
                [tables],
            )
            for name, child, parent, columns, targets in cursor.fetchall():
                present = " AND ".join(f'c."{col}" IS NOT NULL' for col in columns)
                match = " AND ".join(f'p."{t}" = c."{col}"' for col, t in zip(columns, targets, strict=True))
                cursor.execute(
                    f"SELECT count(*) FROM {child} c WHERE {present} "  # noqa: S608 - names from the catalogue
                    f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {match})"
                )
                broken = cursor.fetchone()[0]
                if broken:
                    raise RuntimeError(f"{broken} rows of {child} break foreign key {name}")
                checked += 1
        return checked

    def reset_sequences(self):
        """Ids were given explicitly: move each table's sequence past them."""
        statements = connection.ops.sequence_reset_sql(no_style(), self.models)
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)

    def analyze(self):
        """Fresh statistics and visibility map, as autovacuum would leave a live database."""
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
