"""gunicorn settings for a Wuji Cloud web server (deploy/systemd/wuji-web.service starts it).

Synchronous workers: every request is short (long work runs as tasks), and database connections are
per worker (CONN_MAX_AGE), so processes are the unit of scale. Run as many web servers as needed behind
nginx; they share nothing but PostgreSQL.
"""

import multiprocessing
import os

bind = os.environ.get("WUJI_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30  # a request that takes longer is a bug: long work belongs in a task
graceful_timeout = 30
keepalive = 5
max_requests = 5000  # recycle workers now and then (bounded memory growth)
max_requests_jitter = 500
forwarded_allow_ips = os.environ.get("WUJI_FORWARDED_ALLOW_IPS", "127.0.0.1")  # nginx on this machine
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss "%({x-request-id}i)s"'
proc_name = "wuji-web"
