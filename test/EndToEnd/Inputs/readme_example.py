"""Prints the ten-line example of README.md, so a test can compile it."""
import sys

text = open(sys.argv[1]).read()
start = text.index("```\ntasks Sine") + 4
print(text[start:text.index("```", start)], end="")
