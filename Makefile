# Thin aliases for dev.py, which needs nothing but Python.
.PHONY: lab test test-fast setup e2e wheel ci
lab:
	python3 dev.py lab
test:
	python3 dev.py test
test-fast:
	python3 dev.py test --fast
setup:
	python3 dev.py setup
e2e:
	python3 dev.py e2e
wheel:
	python3 dev.py wheel
ci:
	CI=true bash .ci/run
