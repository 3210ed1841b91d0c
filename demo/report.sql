-- The main job's report as one self-contained HTML page (inline SVG charts,
-- no scripts, no external files): the segment profiles of the saved model
-- 'households' and a fan chart per department of department_forecasts.
-- scripts/demo.sh writes it with `psql -At -f demo/report.sql > .pg/report.html`.
WITH history AS (
  SELECT department, array_agg(week_start ORDER BY week) AS weeks, array_agg(sales ORDER BY week) AS sales
    FROM department_weekly
   WHERE department IN (SELECT department FROM department_forecasts)
   GROUP BY department
), charts AS (
  SELECT h.department,
         max(f.last_week) AS last_week,
         forecast_chart(h.weeks, h.sales,
                        array_agg(h.weeks[cardinality(h.weeks)] + f.step * interval '1 week' ORDER BY f.step),
                        array_agg(f.forecast ORDER BY f.step),
                        array_agg(f.lower ORDER BY f.step),
                        array_agg(f.upper ORDER BY f.step),
                        title => h.department || ': weekly sales, forecast 8 weeks ahead') AS svg
    FROM history h JOIN department_forecasts f USING (department)
   GROUP BY h.department, h.weeks, h.sales
)
SELECT concat_ws(E'\n',
  '<!DOCTYPE html>',
  '<html lang="en"><head><meta charset="utf-8"><title>retailml report</title>',
  '<style>body{font-family:sans-serif;margin:2em auto;max-width:1000px;color:#222}'
    'svg{display:block;margin:0 0 1.5em;max-width:100%;height:auto}</style></head><body>',
  '<h1>retailml report</h1>',
  '<h2>Customer segments</h2>',
  '<p>Each bar is how far the segment''s mean of a feature lies from the mean of all customers, in standard deviations.</p>',
  segment_chart('households'),
  '<h2>Weekly sales by department</h2>',
  '<p>History, the forecast 8 weeks ahead and its 95% prediction interval.</p>',
  (SELECT string_agg(svg, E'\n' ORDER BY last_week DESC, department) FROM charts),
  '</body></html>');
