"""Vocabularies for synthetic datastores, shaped like the real ACCESS-NRI catalog's columns.

Each is a list of strings that the generator's SQL picks from by index; a few real names first,
then synthetic ones up to a realistic cardinality.
"""

from __future__ import annotations


def padded(real: list[str], prefix: str, total: int) -> list[str]:
    """`real`, then `prefix1`, `prefix2`, ... until there are `total` values."""
    return real + [f"{prefix}{k}" for k in range(1, total - len(real) + 1)]


# CMIP6 table_id -> realm, frequency: the table decides both, as in the CMIP6 data request.
CMIP6_TABLES = [
    ("Amon", "atmos", "mon"),
    ("Omon", "ocean", "mon"),
    ("day", "atmos", "day"),
    ("SImon", "seaIce", "mon"),
    ("Lmon", "land", "mon"),
    ("3hr", "atmos", "3hr"),
    ("6hrLev", "atmos", "6hr"),
    ("6hrPlev", "atmos", "6hr"),
    ("6hrPlevPt", "atmos", "6hrPt"),
    ("Oday", "ocean", "day"),
    ("Ofx", "ocean", "fx"),
    ("fx", "atmos", "fx"),
    ("AERmon", "aerosol", "mon"),
    ("AERday", "aerosol", "day"),
    ("CFmon", "atmos", "mon"),
    ("CFday", "atmos", "day"),
    ("Emon", "atmos", "mon"),
    ("Eday", "atmos", "day"),
    ("EdayZ", "atmos", "day"),
    ("E3hr", "atmos", "3hr"),
    ("Eyr", "land", "yr"),
    ("LImon", "landIce", "mon"),
    ("Oyr", "ocnBgchem", "yr"),
    ("Omon_bgc", "ocnBgchem", "mon"),
    ("SIday", "seaIce", "day"),
    ("Efx", "atmos", "fx"),
    ("IfxGre", "landIce", "fx"),
    ("ImonGre", "landIce", "mon"),
    ("CF3hr", "atmos", "3hr"),
    ("AERhr", "aerosol", "1hr"),
    ("E1hr", "atmos", "1hr"),
    ("Odec", "ocean", "dec"),
]
CMIP6_ACTIVITIES = padded(
    ["CMIP", "ScenarioMIP", "OMIP", "DAMIP", "PMIP", "CFMIP", "AerChemMIP", "LUMIP", "C4MIP"],
    "MIP",
    18,
)
CMIP6_INSTITUTIONS = padded(
    ["CSIRO", "CSIRO-ARCCSS", "CSIRO-COSIMA", "NCAR", "MOHC", "IPSL", "NOAA-GFDL", "MPI-M"],
    "INST",
    42,
)
CMIP6_SOURCES = padded(
    ["ACCESS-CM2", "ACCESS-ESM1-5", "ACCESS-OM2", "ACCESS-OM2-025", "CESM2", "UKESM1-0-LL"],
    "MODEL-",
    128,
)
CMIP6_EXPERIMENTS = padded(
    ["historical", "piControl", "ssp126", "ssp245", "ssp370", "ssp585", "amip", "omip2"],
    "exp",
    190,
)
CMIP6_VARIABLES = padded(
    ["tas", "pr", "ts", "psl", "uas", "vas", "hus", "ta", "ua", "va", "zg", "thetao", "so", "vo"],
    "var",
    1100,
)
CMIP6_GRIDS = ["gn", "gr", "gr1", "gm", "gr2", "gna", "grz", "gr3"]

CMIP5_TABLES = [
    ("Amon", "atmos", "mon"),
    ("Omon", "ocean", "mon"),
    ("day", "atmos", "day"),
    ("3hr", "atmos", "3hr"),
    ("6hrLev", "atmos", "6hr"),
    ("6hrPlev", "atmos", "6hr"),
    ("OImon", "seaIce", "mon"),
    ("Lmon", "land", "mon"),
    ("LImon", "landIce", "mon"),
    ("aero", "aerosol", "mon"),
    ("cfDay", "atmos", "day"),
    ("cfMon", "atmos", "mon"),
    ("cf3hr", "atmos", "3hr"),
    ("fx", "atmos", "fx"),
    ("Oyr", "ocnBgchem", "yr"),
]
CMIP5_PROJECTS = ["CMIP5", "CORDEX"]
CMIP5_INSTITUTES = padded(["CSIRO-BOM", "BNU", "NCAR", "MOHC", "IPSL"], "INST", 28)
CMIP5_MODELS = padded(["ACCESS1-0", "ACCESS1-3", "BNU-ESM", "CCSM4", "HadGEM2-ES"], "MODEL-", 60)
CMIP5_EXPERIMENTS = padded(["historical", "rcp26", "rcp45", "rcp85", "piControl"], "exp", 60)
CMIP5_VARIABLES = padded(["tas", "pr", "usi", "psl", "huss", "tos"], "var", 700)

BARPA_SOURCES = ["BARPA-R", "BARPA-C"]
BARPA_DOMAINS = ["AUS-15", "AUS-04"]
BARPA_FREQS = ["1hr", "3hr", "6hr", "day", "mon", "fx"]
BARPA_DRIVERS = ["ERA5", "ACCESS-CM2", "ACCESS-ESM1-5", "CESM2", "CMCC-ESM2", "EC-Earth3", "MPI"]
BARPA_EXPERIMENTS = ["evaluation", "historical", "ssp126", "ssp370"]
BARPA_VARIABLES = padded(["tas", "pr", "evspsblpot", "uas", "vas", "clt", "rsds"], "var", 140)

ERA5_PRODUCTS = [
    "era5-reanalysis",
    "era5-monthly-averaged",
    "era5-monthly-averaged-by-hour",
    "era5-1hr-derived",
    "era5-land-reanalysis",
    "era5-land-monthly-averaged",
]
ERA5_LEVTYPES = ["sfc", "pl", "ml"]
ERA5_STREAMS = ["oper", "moda", "mnth", "wave", "enda"]
ERA5_VARIABLES = padded(["2t", "stl1", "flsr", "tp", "msl", "10u", "10v", "z", "t", "q"], "v", 260)

# ACCESS model output: realm -> history folder, frequencies written there.
ACCESS_REALMS = [
    ("ocean", "ocean"),
    ("seaIce", "ice"),
    ("atmos", "atm/netCDF"),
    ("land", "atm/netCDF"),
]
ACCESS_FREQUENCIES = [
    ("1mon", "monthly"),
    ("1day", "daily"),
    ("3hr", "3hourly"),
    ("6hr", "6hourly"),
    ("fx", "fixed"),
]
ACCESS_MEMBERS = ["r1i1p1f1", "r2i1p1f1", "r3i1p1f1"]
