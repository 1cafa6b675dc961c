# Serbian (Latin): Django's own, except the month in a written date, which is in the
# genitive ("2. marta 2026.", not "2. mart 2026."): "E" reads the "alt. month" names,
# which the project's catalogue gives (config.django_messages). Certificates and other
# PDFs format their dates with these too.
DATE_FORMAT = "j. E Y."
DATETIME_FORMAT = "j. E Y. H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "F Y."
MONTH_DAY_FORMAT = "j. E"
SHORT_DATE_FORMAT = "j.m.Y."
SHORT_DATETIME_FORMAT = "j.m.Y. H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d.%m.%Y.", "%d.%m.%Y", "%d. %m. %Y."]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y. %H:%M:%S", "%d.%m.%Y. %H:%M"]
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
