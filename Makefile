# Thin aliases for dev.py, which needs nothing but Python.
.PHONY: lab test setup
lab:
	python3 dev.py lab
test:
	python3 dev.py test
setup:
	python3 dev.py setup
