"""DuckDB SQL that streams `n` synthetic esm-datastore rows of one kind from `range(n)`.

The queries use the macros `generate_catalog.define_macros` creates: `uniform(i, salt, k)` and
`skewed(i, salt, k)` (an index in [0, k)) and one macro per vocabulary in `vocabularies.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import vocabularies as vocab


@dataclass(frozen=True)
class Kind:
    sql: Callable[[str, str, int], str]
    # Expressions over the datastore's columns for its metacatalog rows.
    model: str
    realm: str
    frequency: str
    variable: str
    list_variable: bool = False


def cmip6(name: str, project: str, n: int) -> str:
    tables, sources = len(vocab.CMIP6_TABLES), len(vocab.CMIP6_SOURCES)
    return f"""
    SELECT '/g/data/{project}/replicas/CMIP6/' || project_id || '/' || institution_id || '/'
             || source_id || '/' || experiment_id || '/' || member_id || '/' || table_id || '/'
             || variable_id || '/' || grid_label || '/' || version || '/' || variable_id || '_'
             || table_id || '_' || source_id || '_' || experiment_id || '_' || member_id || '_'
             || grid_label || coalesce('_' || time_range, '') || '.nc' AS path,
           file_type, realm, frequency, table_id, project_id, institution_id, source_id,
           experiment_id, member_id, variable_id, grid_label, version, time_range
    FROM (
      SELECT 'f' AS file_type,
             cmip6_tables_1()[t + 1] AS realm,
             cmip6_tables_2()[t + 1] AS frequency,
             cmip6_tables_0()[t + 1] AS table_id,
             cmip6_activities()[e % {len(vocab.CMIP6_ACTIVITIES)} + 1] AS project_id,
             cmip6_institutions()[s % {len(vocab.CMIP6_INSTITUTIONS)} + 1] AS institution_id,
             cmip6_sources()[s + 1] AS source_id,
             cmip6_experiments()[e + 1] AS experiment_id,
             'r' || (1 + skewed(i, 5, 40)) || 'i1p1f' || (1 + skewed(i, 6, 3)) AS member_id,
             cmip6_variables()[skewed(i, 7, {len(vocab.CMIP6_VARIABLES)}) + 1] AS variable_id,
             cmip6_grids()[skewed(i, 8, {len(vocab.CMIP6_GRIDS)}) + 1] AS grid_label,
             'v' || strftime(DATE '2018-06-01' + uniform(i, 9, 1600)::INTEGER, '%Y%m%d')
               AS version,
             CASE WHEN cmip6_tables_2()[t + 1] <> 'fx'
                  THEN y || '01-' || (y + 9) || '12' END AS time_range
      FROM (SELECT i, skewed(i, 1, {tables}) AS t, skewed(i, 2, {sources}) AS s,
                   skewed(i, 3, {len(vocab.CMIP6_EXPERIMENTS)}) AS e,
                   1850 + 10 * uniform(i, 4, 25) AS y
            FROM range({n}) r(i)))"""


def cmip6_wide(name: str, project: str, n: int) -> str:
    """A CMIP6 replica as large catalogs hold it: 15 text columns, `version` with ~43,000
    distinct values, 1,100 variables, 240 time ranges, 120 sources and members, 18 tables."""
    return f"""
    SELECT '/g/data/{project}/replicas/CMIP6/' || activity_id || '/' || institution_id || '/'
             || source_id || '/' || experiment_id || '/' || member_id || '/' || table_id || '/'
             || variable_id || '/' || grid_label || '/' || version || '/' || variable_id || '_'
             || table_id || '_' || source_id || '_' || experiment_id || '_' || member_id || '_'
             || grid_label || '_' || time_range || '_' || i || '.nc' AS path,
           file_type, realm, frequency, table_id, project_id, activity_id, institution_id,
           source_id, experiment_id, member_id, variable_id, grid_label, version, time_range
    FROM (
      SELECT i, 'f' AS file_type, 'CMIP6' AS project_id,
             cmip6_tables_1()[t + 1] AS realm,
             cmip6_tables_2()[t + 1] AS frequency,
             cmip6_tables_0()[t + 1] AS table_id,
             cmip6_activities()[e % 10 + 1] AS activity_id,
             cmip6_institutions()[s % 30 + 1] AS institution_id,
             cmip6_sources()[s + 1] AS source_id,
             cmip6_experiments()[e + 1] AS experiment_id,
             'r' || (1 + skewed(i, 5, 40)) || 'i1p1f' || (1 + skewed(i, 6, 3)) AS member_id,
             cmip6_variables()[skewed(i, 7, {len(vocab.CMIP6_VARIABLES)}) + 1] AS variable_id,
             cmip6_grids()[skewed(i, 8, 4) + 1] AS grid_label,
             'v' || strftime(DATE '1900-01-01' + uniform(i, 9, 43000)::INTEGER, '%Y%m%d')
               AS version,
             (1850 + y) || '01-' || (1850 + y) || '12' AS time_range
      FROM (SELECT i, skewed(i, 1, 18) AS t, skewed(i, 2, 120) AS s,
                   skewed(i, 3, 16) AS e, uniform(i, 4, 240) AS y
            FROM range({n}) r(i)))"""


def cmip5(name: str, project: str, n: int) -> str:
    return f"""
    SELECT '/g/data/{project}/replicas/CMIP5/combined/' || institute || '/' || model || '/'
             || experiment || '/' || frequency || '/' || realm || '/' || "table" || '/'
             || ensemble || '/' || version || '/' || variable || '/' || variable || '_'
             || "table" || '_' || model || '_' || experiment || '_' || ensemble || '_'
             || time_range || '.nc' AS path,
           file_type, project, institute, model, experiment, frequency, realm, "table",
           ensemble, version, variable, time_range
    FROM (
      SELECT ['f', 'l'][skewed(i, 10, 2) + 1] AS file_type,
             cmip5_projects()[skewed(i, 11, 2) + 1] AS project,
             cmip5_institutes()[m % {len(vocab.CMIP5_INSTITUTES)} + 1] AS institute,
             cmip5_models()[m + 1] AS model,
             cmip5_experiments()[skewed(i, 3, {len(vocab.CMIP5_EXPERIMENTS)}) + 1] AS experiment,
             cmip5_tables_2()[t + 1] AS frequency,
             cmip5_tables_1()[t + 1] AS realm,
             cmip5_tables_0()[t + 1] AS "table",
             'r' || (1 + skewed(i, 5, 12)) || 'i1p1' AS ensemble,
             'v' || strftime(DATE '2011-01-01' + uniform(i, 9, 900)::INTEGER, '%Y%m%d') AS version,
             cmip5_variables()[skewed(i, 7, {len(vocab.CMIP5_VARIABLES)}) + 1] AS variable,
             y || '0101-' || (y + 4) || '1231' AS time_range
      FROM (SELECT i, skewed(i, 1, {len(vocab.CMIP5_TABLES)}) AS t,
                   skewed(i, 2, {len(vocab.CMIP5_MODELS)}) AS m,
                   1850 + 5 * uniform(i, 4, 50) AS y
            FROM range({n}) r(i)))"""


def barpa(name: str, project: str, n: int) -> str:
    return f"""
    SELECT '/g/data/{project}/BARPA/output/CMIP6/DD/' || domain_id || '/BOM/'
             || driving_source_id || '/' || driving_experiment_id || '/' || driving_variant_label
             || '/' || source_id || '/v1-r1/' || freq || '/' || variable_id || '/' || version || '/'
             || variable_id || '_' || domain_id || '_' || driving_source_id || '_'
             || driving_experiment_id || '_' || driving_variant_label || '_BOM_' || source_id
             || '_v1-r1_' || freq || '_' || time_range || '.nc' AS path,
           'f' AS file_type, 'output' AS project_id, 'CMIP6' AS MIP_era, 'DD' AS activity_id,
           domain_id, 'BOM' AS RCM_institution_id, driving_source_id, driving_experiment_id,
           driving_variant_label, source_id, 'v1-r1' AS version_realisation, version,
           variable_id, freq, start_time, end_time, time_range
    FROM (
      SELECT barpa_domains()[skewed(i, 1, 2) + 1] AS domain_id,
             barpa_drivers()[skewed(i, 2, {len(vocab.BARPA_DRIVERS)}) + 1] AS driving_source_id,
             barpa_experiments()[uniform(i, 3, 4) + 1] AS driving_experiment_id,
             ['r1i1p1f1', 'r6i1p1f1', 'r1i1p1f2'][skewed(i, 4, 3) + 1] AS driving_variant_label,
             barpa_sources()[skewed(i, 5, 2) + 1] AS source_id,
             ['v20231001', 'v20240117', 'v20240603'][skewed(i, 6, 3) + 1] AS version,
             barpa_variables()[skewed(i, 7, {len(vocab.BARPA_VARIABLES)}) + 1] AS variable_id,
             barpa_freqs()[skewed(i, 8, {len(vocab.BARPA_FREQS)}) + 1] AS freq,
             y || '01' AS start_time, y || '12' AS end_time, y || '01-' || y || '12' AS time_range
      FROM (SELECT i, 1960 + uniform(i, 9, 141) AS y FROM range({n}) r(i)))"""


def era5(name: str, project: str, n: int) -> str:
    return f"""
    SELECT '/g/data/{project}/era5/' || levtype || '/' || product || '/' || variable || '/'
             || y || '/' || variable || '_era5_' || stream || '_' || levtype || '_'
             || time_range || '.nc' AS path,
           'f' AS file_type, product, variable, stream, levtype, time_range
    FROM (
      SELECT era5_products()[skewed(i, 1, {len(vocab.ERA5_PRODUCTS)}) + 1] AS product,
             era5_variables()[skewed(i, 2, {len(vocab.ERA5_VARIABLES)}) + 1] AS variable,
             era5_streams()[skewed(i, 3, {len(vocab.ERA5_STREAMS)}) + 1] AS stream,
             era5_levtypes()[skewed(i, 4, {len(vocab.ERA5_LEVTYPES)}) + 1] AS levtype,
             y, strftime(d, '%Y%m%d') || '-' || strftime(last_day(d), '%Y%m%d') AS time_range
      FROM (SELECT i, DATE '1940-01-01' + to_months(uniform(i, 5, 1020)::INTEGER) AS d,
                   year(d) AS y
            FROM range({n}) r(i)))"""


# ACCESS model output: 20 (realm, frequency) streams, each file listing the stream's variables.
_ACCESS_STREAMS = len(vocab.ACCESS_REALMS) * len(vocab.ACCESS_FREQUENCIES)


def access(name: str, project: str, n: int) -> str:
    months = max(12, n // _ACCESS_STREAMS)
    freqs = len(vocab.ACCESS_FREQUENCIES)
    return f"""
    WITH streams AS (
      SELECT tid,
             access_realms_0()[tid // {freqs} + 1] AS realm,
             access_realms_1()[tid // {freqs} + 1] AS realm_dir,
             access_frequencies_0()[tid % {freqs} + 1] AS frequency,
             access_frequencies_1()[tid % {freqs} + 1] AS temporal_label,
             realm || '.' || frequency || '.lat:' || (144 * (1 + tid % 3)) || '.lon:'
               || (192 * (1 + tid % 3)) AS file_id,
             [CASE realm WHEN 'atmos' THEN 'fld_s' WHEN 'ocean' THEN 'ocn_'
                         WHEN 'seaIce' THEN 'ice_' ELSE 'lnd_' END
                || lpad(((tid * 37 + j * 11) % 600)::VARCHAR, 5, '0')
              FOR j IN range(n_variables)] AS variable
      FROM (SELECT tid,
                   -- Ocean and sea-ice files hold a variable or a few; UM atmosphere files dozens.
                   CASE WHEN tid // {freqs} < 2 THEN 1 + (tid * 7) % 4 ELSE 20 + (tid * 17) % 60 END
                     AS n_variables
            FROM range({_ACCESS_STREAMS}) t(tid))
    ), described AS (
      SELECT *,
             ['Long name of ' || v FOR v IN variable] AS variable_long_name,
             [CASE WHEN hash(v) % 3 = 0 THEN '' ELSE 'standard_name_' || hash(v) % 200 END
              FOR v IN variable] AS variable_standard_name,
             [['time: mean', 'time: point', 'time: maximum', 'time: minimum',
               'area: mean time: mean'][(hash(v, 1) % 5)::BIGINT + 1] FOR v IN variable]
               AS variable_cell_methods,
             [['K', 'kg m-2 s-1', 'm s-1', 'Pa', '1', 'W m-2', 'degC', 'psu']
                [(hash(v, 2) % 8)::BIGINT + 1]
              FOR v IN variable] AS variable_units
      FROM streams
    )
    SELECT filename,
           '/g/data/{project}/archive/non-CMIP/ACCESS-CM2/{name}/' || member || '/history/'
             || realm_dir || '/' || filename AS path,
           file_id, frequency, start_date, end_date, variable, variable_long_name,
           variable_standard_name, variable_cell_methods, variable_units, realm, temporal_label,
           member
    FROM (
      SELECT s.*, r.member,
             '{name}.' || s.realm || '.' || s.frequency || '.' || r.member || '.'
               || strftime(r.d, '%Y-%m') || '.nc' AS filename,
             CASE WHEN s.frequency <> 'fx' THEN strftime(r.d, '%Y-%m-%d, 00:00:00') END
               AS start_date,
             CASE WHEN s.frequency <> 'fx'
                  THEN strftime(r.d + INTERVAL 1 MONTH, '%Y-%m-%d, 00:00:00') END AS end_date
      FROM (SELECT i, skewed(i, 1, {_ACCESS_STREAMS}) AS tid,
                   access_members()[skewed(i, 2, {len(vocab.ACCESS_MEMBERS)}) + 1] AS member,
                   DATE '1850-01-01' + to_months(uniform(i, 3, {months})::INTEGER) AS d
            FROM range({n}) r(i)) r
      JOIN described s USING (tid))"""


KINDS = {
    "cmip6": Kind(cmip6, "source_id", "realm", "frequency", "variable_id"),
    "cmip6_wide": Kind(cmip6_wide, "source_id", "realm", "frequency", "variable_id"),
    "cmip5": Kind(cmip5, "model", "realm", "frequency", "variable"),
    "barpa": Kind(barpa, "source_id", "'atmos'", "freq", "variable_id"),
    "era5": Kind(era5, "product", "'atmos'", "stream", "variable"),
    "access": Kind(access, "'ACCESS-CM2'", "realm", "frequency", "variable", list_variable=True),
}
