# The two commands of README.md. Both do all set-up on a fresh machine.
.PHONY: test demo bootstrap lab-down

bootstrap:
	tools/bootstrap

test: bootstrap
	tests/run

demo: bootstrap
	tools/demo

lab-down:
	.venv/bin/python tools/lab/lab down
