"""format_as_xml: structured data as XML for prompts."""

from dataclasses import dataclass

from pydantic_ai.format_as_xml import format_as_xml


@dataclass
class User:
    name: str
    age: int


print(format_as_xml({'name': 'John', 'height': 6, 'weight': 200}, root_tag='user'))
print(format_as_xml([User('a', 1), User('b', 2)]))
print(format_as_xml('plain'))
print(format_as_xml({'items': [1, 2], 'flag': True, 'none': None}, item_tag='entry', indent=None))
