\i pg_test/helpers.sql
-- The report's charts: forecast_chart and segment_chart return one <svg>
-- element as text. Well-formedness is checked by the server's own XML
-- parser, element counts by XPath.
SET timezone = 'UTC';
CREATE FUNCTION pg_temp.count_of(svg text, element text) RETURNS int LANGUAGE sql AS $$
  SELECT (xpath(format('count(//*[local-name() = %L])', element), svg::xml))[1]::text::int
$$;
CREATE TABLE report_weekly (week timestamptz, sales float8);
INSERT INTO report_weekly
SELECT timestamptz '2017-01-02' + (i - 1) * interval '1 week', 100 + 10 * sin(i) + i
  FROM generate_series(1, 30) i;
-- A fan chart from forecast_sales' own output: one band, a history and a
-- forecast line with their legend keys, dates on the axis, the title escaped.
CREATE TABLE report_chart AS
WITH f AS (
  SELECT array_agg(period ORDER BY period) AS periods, array_agg(forecast ORDER BY period) AS forecast,
         array_agg(lower ORDER BY period) AS lower, array_agg(upper ORDER BY period) AS upper
    FROM forecast_sales((SELECT array_agg(week ORDER BY week) FROM report_weekly),
                        (SELECT array_agg(sales ORDER BY week) FROM report_weekly), horizon => 8)
)
SELECT forecast_chart((SELECT array_agg(week ORDER BY week) FROM report_weekly),
                      (SELECT array_agg(sales ORDER BY week) FROM report_weekly),
                      f.periods, f.forecast, f.lower, f.upper,
                      title => 'Dairy & <Eggs> "fresh"') AS svg
  FROM f;
SELECT left(svg, 5) AS starts, right(rtrim(svg, E'\n'), 6) AS ends,
       xml_is_well_formed_document(svg) AS well_formed,
       pg_temp.count_of(svg, 'svg') AS svgs,
       pg_temp.count_of(svg, 'polygon') AS bands,
       regexp_count(svg, 'stroke="#1F3A5F" stroke-width="2"') AS history_lines,
       regexp_count(svg, 'stroke="#D95F0E" stroke-width="2"') AS forecast_lines,
       svg LIKE '%>' || E'\n' || '2017-0_-__' || E'\n' || '</text>%' AS dated_axis,
       strpos(svg, 'Dairy &amp; &lt;Eggs&gt; &quot;fresh&quot;') > 0 AS title_escaped,
       strpos(svg, '<Eggs>') = 0 AS no_raw_markup
  FROM report_chart;
-- Either part may be empty; no title draws no caption.
SELECT pg_temp.count_of(forecast_chart(ARRAY['2017-01-02']::timestamptz[], ARRAY[5]::float8[],
                                       '{}', '{}', '{}', '{}'), 'polygon') AS bands_without_forecast,
       pg_temp.count_of(forecast_chart('{}', '{}', ARRAY['2017-01-02']::timestamptz[], ARRAY[5]::float8[],
                                       ARRAY[4]::float8[], ARRAY[6]::float8[]), 'polygon') AS bands_without_history,
       pg_temp.count_of(forecast_chart('{}', '{}', ARRAY['2017-01-02']::timestamptz[], ARRAY[5]::float8[],
                                       ARRAY[4]::float8[], ARRAY[6]::float8[]), 'title') AS titles;
-- Any NULL array gives NULL.
SELECT forecast_chart(NULL, ARRAY[1]::float8[], '{}', '{}', '{}', '{}') IS NULL AS null_periods,
       forecast_chart(ARRAY['2017-01-02']::timestamptz[], ARRAY[1]::float8[], '{}', '{}', NULL, '{}') IS NULL AS null_lower;
-- Unusable arguments are errors, never a crash.
SELECT pg_temp.error_of($$SELECT forecast_chart(ARRAY['2017-01-02', '2017-01-09']::timestamptz[], ARRAY[1]::float8[], '{}', '{}', '{}', '{}')$$);
SELECT pg_temp.error_of($$SELECT forecast_chart('{}', '{}', ARRAY['2017-01-02']::timestamptz[], ARRAY[5]::float8[], ARRAY[4, 3]::float8[], ARRAY[6]::float8[])$$);
SELECT pg_temp.error_of($$SELECT forecast_chart('{}', '{}', '{}', '{}', '{}', '{}')$$);
SELECT pg_temp.error_of($$SELECT forecast_chart(ARRAY['2017-01-02', NULL]::timestamptz[], ARRAY[1, 2]::float8[], '{}', '{}', '{}', '{}')$$);
SELECT pg_temp.error_of($$SELECT forecast_chart(ARRAY['2017-01-02', '2017-01-09']::timestamptz[], ARRAY[1, NULL]::float8[], '{}', '{}', '{}', '{}')$$);
SELECT pg_temp.error_of($$SELECT forecast_chart(ARRAY['2017-01-09', '2017-01-02']::timestamptz[], ARRAY[1, 2]::float8[], '{}', '{}', '{}', '{}')$$);
SELECT pg_temp.error_of($$SELECT forecast_chart(ARRAY['2017-01-09']::timestamptz[], ARRAY[1]::float8[], ARRAY['2017-01-09']::timestamptz[], ARRAY[5]::float8[], ARRAY[4]::float8[], ARRAY[6]::float8[])$$);
SELECT pg_temp.error_of($$SELECT forecast_chart('{}', '{}', ARRAY['2017-01-02']::timestamptz[], ARRAY[5]::float8[], ARRAY[7]::float8[], ARRAY[6]::float8[])$$);
SELECT pg_temp.error_of($$SELECT forecast_chart(ARRAY['-infinity']::timestamptz[], ARRAY[1]::float8[], '{}', '{}', '{}', '{}')$$);
SELECT pg_temp.error_of($$SELECT forecast_chart(ARRAY['2017-01-02']::timestamptz[], ARRAY['NaN']::float8[], '{}', '{}', '{}', '{}')$$);
-- Values whose range nears the largest float8 are refused at once: they used
-- to send the drawing into an endless loop that no cancel could stop.
SELECT pg_temp.error_of($$SELECT forecast_chart(ARRAY['2017-01-02', '2017-01-09']::timestamptz[], ARRAY[1e308, -1e308]::float8[], '{}', '{}', '{}', '{}')$$);
SELECT pg_temp.error_of($$SELECT forecast_chart(ARRAY['2017-01-02', '2017-01-09']::timestamptz[], ARRAY[1, 2]::float8[],
                                                ARRAY['2017-01-16']::timestamptz[], ARRAY[8.5e307]::float8[], ARRAY[0]::float8[], ARRAY[1.7976931348623157e308]::float8[])$$);
SELECT pg_temp.error_of($$SELECT forecast_chart(ARRAY(SELECT timestamptz '2000-01-01' + i * interval '1 hour' FROM generate_series(1, 100001) i),
                                                ARRAY(SELECT 1::float8 FROM generate_series(1, 100001)), '{}', '{}', '{}', '{}')$$);
-- A segment model whose feature names hold markup: one panel per segment,
-- one bar per segment and feature, every name escaped.
CREATE TABLE report_shoppers (id int PRIMARY KEY, "spend <&> ""total""" float8, visits float8);
INSERT INTO report_shoppers
SELECT i, CASE WHEN i % 3 = 0 THEN 900 + i ELSE 20 + i % 7 END, CASE WHEN i % 3 = 0 THEN 2 + i % 3 ELSE 30 + i % 5 END
  FROM generate_series(1, 60) i;
SELECT segment, count(*) AS customers
  FROM segment_customers('report_shoppers'::regclass, 2, model_name => 'shoppers <b>') GROUP BY 1 ORDER BY 1;
CREATE TABLE report_profile_chart AS SELECT segment_chart('shoppers <b>') AS svg;
SELECT xml_is_well_formed_document(svg) AS well_formed,
       pg_temp.count_of(svg, 'svg') AS svgs,
       regexp_count(svg, 'fill="#(1F6FB4|E07B39)"') AS bars,
       regexp_count(svg, '>\nsegment [12]: ') AS panels,
       strpos(svg, 'spend &lt;&amp;&gt; &quot;total&quot;') > 0 AS feature_escaped,
       strpos(svg, 'segment model shoppers &lt;b&gt;: 60 customers') > 0 AS title_escaped,
       strpos(svg, '<b>') = 0 AS no_raw_markup
  FROM report_profile_chart;
-- The panel headers carry segment_profiles' labels and sizes.
SELECT count(*) AS profiles_shown
  FROM (SELECT DISTINCT segment, customers, label FROM segment_profiles('shoppers <b>')) p, report_profile_chart c
 WHERE strpos(c.svg, format('segment %s: %s', p.segment, replace(replace(replace(replace(p.label, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'))) > 0
   AND strpos(c.svg, format('%s customers', p.customers)) > 0;
SELECT segment_chart(NULL) IS NULL AS null_model;
SELECT pg_temp.error_of($$SELECT segment_chart('no such model')$$);
-- STABLE: periods are labelled in the session's time zone, and a model is read from a table.
SELECT proname, provolatile, proisstrict, proparallel
  FROM pg_proc WHERE proname IN ('forecast_chart', 'segment_chart') ORDER BY 1;
DROP TABLE report_weekly, report_chart, report_shoppers, report_profile_chart;
DELETE FROM retailml.segment_models WHERE name = 'shoppers <b>';
