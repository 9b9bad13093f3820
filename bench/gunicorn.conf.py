# Benchmark runs use gunicorn's defaults (no access log, no worker recycling) and set workers
# on the command line, so figures compare with earlier runs. Production settings: ../gunicorn.conf.py.
