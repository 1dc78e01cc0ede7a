"""The 11 voluntary norms of the UN GGE 2015 report (A/70/174, paragraph 13), by letter.

Short names in our own words; the full catalogue with the 2021 guidance comes with the norms
capability.
"""

from __future__ import annotations

NORM_NAMES: dict[str, str] = {
    "a": "Cooperate for stability and security",
    "b": "Weigh all information before attributing",
    "c": "Do not let territory be used for wrongful acts",
    "d": "Cooperate on information and prosecution",
    "e": "Respect human rights and privacy",
    "f": "Do not damage critical infrastructure",
    "g": "Protect critical infrastructure",
    "h": "Answer requests for assistance",
    "i": "Keep supply chains sound",
    "j": "Report vulnerabilities responsibly",
    "k": "Do not harm emergency response teams",
}
