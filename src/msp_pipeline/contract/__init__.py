"""What a client of the pipeline may rely on: the wire names (subjects, queue), the job and
event formats, the schema and its migrations, the settings and their flags, the SQL loader,
the producer side of the queue and the URL redactor.

The load-test harness imports only this package (plus `model`, `rules` and `migration`,
whose facts it plants and checks); import-linter holds it to that (see pyproject.toml).
"""
