"""The pytest plugin's parts; `agentkit_testing._pytest_plugin`, the module pytest registers, gathers them."""
