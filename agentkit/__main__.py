"""`python -m agentkit`: run the demo agent on TestModel and print its node sequence."""

from agentkit._demo import main

main()
