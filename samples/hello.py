"""Greets people by name, counting how often each name was seen."""
from collections import Counter


def greet(names):
    seen = Counter()
    lines = []
    for name in names:
        seen[name] += 1
        if seen[name] == 1:
            lines.append(f"Hello, {name}!")
        else:
            lines.append(f"Welcome back, {name} (visit {seen[name]}).")
    return lines


if __name__ == "__main__":
    for line in greet(["Ada", "Grace", "Ada", "Linus"]):
        print(line)
