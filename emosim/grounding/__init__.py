"""Grounding: the vetted fact base (`facts`) and the calculators (`calculators`) Elena uses.

Figures Elena states come from the client, a calculation or the fact base; these modules are
the latter two. Import from the submodules: `emosim.grounding.calculators`,
`emosim.grounding.facts`.
"""
