# The two commands of the README are `make demo` and `make test`; both set up
# everything they need (Debian packages, cargo-pgrx, models, data) themselves.
.PHONY: demo test psql stop start models data install bench sentiment-head

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

psql:
	bash scripts/cluster.sh psql

start:
	bash scripts/cluster.sh start

stop:
	bash scripts/cluster.sh stop

install:
	bash scripts/install.sh

models:
	bash scripts/setup-system.sh
	bash models/fetch.sh "$$(/usr/lib/postgresql/15/bin/pg_config --sharedir)/retailml/models"

data:
	bash data/fetch.sh

# make bench BENCH_ARGS=--quick for a short development run (see bench/README.md)
bench:
	bash bench/bench.sh $(BENCH_ARGS)

# Retrains models/heads/review-sentiment.json from its pinned data (a few minutes)
sentiment-head:
	bash models/train-sentiment.sh
