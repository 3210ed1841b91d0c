\i pg_test/helpers.sql
-- Features of every kind: numeric, boolean, text (one-hot), a numeric array
-- (principal components), a constant column, NULLs, and a skewed money
-- column taken through log1p.
CREATE TABLE sf_shoppers (
    id int PRIMARY KEY,
    spend numeric,
    loyal boolean,
    channel text,
    taste real[],
    country text,
    joined date
);
INSERT INTO sf_shoppers
SELECT i,
       CASE WHEN i % 3 = 0 THEN 5000 + i * 10 WHEN i % 3 = 1 THEN 50 + i ELSE 5 + i % 7 END,
       CASE WHEN i % 10 = 0 THEN NULL ELSE i % 3 = 0 END,
       CASE WHEN i % 11 = 0 THEN NULL WHEN i % 3 = 1 THEN 'web' ELSE 'store' END,
       ARRAY[(i % 3)::real, (i % 3) * 2 + (i % 5) * 0.01, ((i * 7) % 13) * 0.001]::real[],
       'NZ',
       date '2020-01-01' + i
  FROM generate_series(1, 90) i;

-- Every kind at once; the constant column is dropped with a NOTICE, the
-- array reduced to components with a NOTICE.
SELECT segment, count(*) AS customers
  FROM segment_customers('sf_shoppers'::regclass, 3,
                         features => ARRAY['spend', 'loyal', 'channel', 'taste', 'country'],
                         log_features => ARRAY['spend'], components => 2, model_name => 'kinds')
 GROUP BY 1 ORDER BY 1;
-- Each group is one segment.
SELECT count(DISTINCT s.segment) AS segments, count(*) FILTER (WHERE mixed) AS mixed_segments
  FROM (SELECT s.segment, count(DISTINCT c.id % 3) > 1 AS mixed
          FROM segment_customers('sf_shoppers'::regclass, 3,
                                 features => ARRAY['spend', 'loyal', 'channel', 'taste', 'country'],
                                 log_features => ARRAY['spend'], components => 2) s
          JOIN sf_shoppers c ON c.id::text = s.customer_id GROUP BY 1) s;
-- What was recorded: input columns, the encoded features, the transforms.
SELECT features, nulls, encoded_features, dropped, row_count,
       jsonb_path_query_array(transforms, '$.transforms[*].kind') AS kinds,
       transforms #> '{transforms,0,log1p}' AS spend_log1p,
       transforms #> '{transforms,2,categories}' AS channel_categories,
       jsonb_array_length(transforms #> '{transforms,3,components}') AS taste_components,
       (transforms #>> '{transforms,3,explained}')::float8 > 0.99 AS taste_explained
  FROM retailml.segment_models WHERE name = 'kinds';
-- Profiles: money in dollars (not log dollars), indicators as shares.
SELECT segment, feature, round(mean::numeric, 3) AS mean, round(median::numeric, 3) AS median,
       round(overall_mean::numeric, 3) AS overall_mean, round(z::numeric, 2) AS z, label
  FROM segment_profiles('kinds') ORDER BY segment, feature;
-- The profile's dollars agree with SQL's own means and medians per segment,
-- and its shares with SQL's, a NULL counting at the column's share.
SELECT count(*) AS profile_mismatches
  FROM segment_profiles('kinds') p
  JOIN (SELECT a.segment, avg(c.spend) AS mean, percentile_cont(0.5) WITHIN GROUP (ORDER BY c.spend) AS median,
               avg(CASE WHEN c.channel IS NULL THEN o.web WHEN c.channel = 'web' THEN 1 ELSE 0 END) AS web
          FROM assign_segments('kinds', 'sf_shoppers'::regclass) a JOIN sf_shoppers c ON c.id::text = a.customer_id,
               (SELECT avg((channel = 'web')::int) AS web FROM sf_shoppers) o
         GROUP BY 1) s USING (segment)
 WHERE (p.feature = 'spend' AND (abs(p.mean - s.mean) > 1e-9 * s.mean OR abs(p.median - s.median) > 1e-9 * s.median))
    OR (p.feature = 'channel=web' AND abs(p.mean - s.web) > 1e-12);
-- Scoring the training rows with the saved transforms gives the fit back.
SELECT count(*) AS rescored_differently
  FROM assign_segments('kinds', 'sf_shoppers'::regclass) a
  JOIN segment_customers('sf_shoppers'::regclass, 3,
                         features => ARRAY['spend', 'loyal', 'channel', 'taste', 'country'],
                         log_features => ARRAY['spend'], components => 2) s USING (customer_id)
 WHERE a.segment <> s.segment OR abs(a.distance - s.distance) > 1e-9;
-- New customers: an unseen channel, NULLs everywhere, a big spender.
CREATE TABLE sf_newcomers (LIKE sf_shoppers);
INSERT INTO sf_newcomers VALUES
  (1, 7, false, 'phone', '{2, 4, 0}', 'NZ', NULL),
  (2, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, 9000, true, 'store', '{0, 0, 0}', 'AU', NULL);
SELECT customer_id, segment, round(distance::numeric, 2) AS distance
  FROM assign_segments('kinds', 'sf_newcomers'::regclass) ORDER BY customer_id;

-- nulls => 'skip' leaves out customers with any NULL feature, and a model
-- fitted that way scores the same way.
SELECT count(*) AS segmented
  FROM segment_customers('sf_shoppers'::regclass, 3, features => ARRAY['spend', 'loyal', 'channel'],
                         nulls => 'skip', model_name => 'skipping');
SELECT nulls, row_count FROM retailml.segment_models WHERE name = 'skipping';
SELECT count(*) AS scored FROM assign_segments('skipping', 'sf_shoppers'::regclass);
-- By default a table's text columns are left out, with a NOTICE naming them.
SELECT count(DISTINCT segment) AS segments FROM segment_customers('sf_shoppers'::regclass, 2);
-- The seed is an argument: the same seed gives the same segments.
SELECT count(*) AS differing
  FROM segment_customers('sf_shoppers'::regclass, 4, features => ARRAY['spend', 'taste'], seed => 7) a
  JOIN segment_customers('sf_shoppers'::regclass, 4, features => ARRAY['spend', 'taste'], seed => 7) b USING (customer_id)
 WHERE a.segment <> b.segment OR a.distance <> b.distance;

-- Errors name the column and the customer.
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sf_shoppers'::regclass, 2, features => ARRAY['joined'])$$) AS date_feature;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sf_shoppers'::regclass, 2, features => ARRAY['spend', 'channel'], log_features => ARRAY['channel'])$$) AS log_of_text;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sf_shoppers'::regclass, 2, features => ARRAY['spend'], log_features => ARRAY['loyal'])$$) AS log_of_unlisted;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sf_shoppers'::regclass, 2, log_features => ARRAY[NULL])$$) AS null_log_feature;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sf_shoppers'::regclass, 2, nulls => 'drop')$$) AS bad_nulls;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sf_shoppers'::regclass, 2, components => 0)$$) AS no_components;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sf_shoppers'::regclass, 2, components => -3)$$) AS negative_components;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sf_shoppers'::regclass, 2, features => ARRAY['country'])$$) AS only_constant;
CREATE TABLE sf_odd (id int PRIMARY KEY, amount float8, tag text, v float8[]);
INSERT INTO sf_odd SELECT i, i - 5, 'tag' || i, ARRAY[i, i * 2] FROM generate_series(1, 30) i;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sf_odd'::regclass, 2, features => ARRAY['amount'], log_features => ARRAY['amount'])$$) AS log_below_minus_one;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sf_odd'::regclass, 2, features => ARRAY['tag'])$$) AS too_many_values;
UPDATE sf_odd SET v = ARRAY[1, 2, 3] WHERE id = 7;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sf_odd'::regclass, 2, features => ARRAY['v'])$$) AS ragged_arrays;
UPDATE sf_odd SET v = ARRAY[1, NULL] WHERE id = 7;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sf_odd'::regclass, 2, features => ARRAY['v'])$$) AS null_element;
UPDATE sf_odd SET v = ARRAY[1, 'NaN'::float8] WHERE id = 7;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sf_odd'::regclass, 2, features => ARRAY['v'])$$) AS nan_element;
UPDATE sf_odd SET v = '{}' WHERE id = 1;
UPDATE sf_odd SET v = ARRAY[1, 2] WHERE id = 7;
SELECT pg_temp.error_of($$SELECT * FROM segment_customers('sf_odd'::regclass, 2, features => ARRAY['v'])$$) AS empty_array;
-- A model's column changed kind since the fit.
CREATE TABLE sf_changed (id int PRIMARY KEY, spend numeric, loyal text, channel text, taste real[], country text);
SELECT pg_temp.error_of($$SELECT * FROM assign_segments('kinds', 'sf_changed'::regclass)$$) AS changed_kind;
-- New customers' values are checked as the fit's were.
INSERT INTO sf_newcomers VALUES (4, -2, true, 'web', '{1, 1, 1}', 'NZ', NULL);
SELECT pg_temp.error_of($$SELECT * FROM assign_segments('kinds', 'sf_newcomers'::regclass)$$) AS new_log_domain;
UPDATE sf_newcomers SET spend = 1, taste = '{1, 1}' WHERE id = 4;
SELECT pg_temp.error_of($$SELECT * FROM assign_segments('kinds', 'sf_newcomers'::regclass)$$) AS new_ragged;

-- Review content as a feature: the average review embedding per customer
-- next to spend, reduced to principal components.
CREATE TABLE sf_reviews (customer int, body text);
INSERT INTO sf_reviews
SELECT c, CASE WHEN c % 2 = 0 THEN (ARRAY['Delicious, I love this tea', 'Wonderful flavour, will buy again', 'Great coffee, fresh and rich'])[1 + (r + c) % 3]
               ELSE (ARRAY['Stale and tasteless, a waste of money', 'Arrived broken, awful', 'Terrible taste, threw it away'])[1 + (r + c) % 3] END
  FROM generate_series(1, 12) c, generate_series(0, 1) r;
CREATE TABLE sf_review_features AS
SELECT customer AS customer_id, avg_embedding(embed_review(body)) AS review, avg(review_sentiment(body)) AS sentiment
  FROM sf_reviews GROUP BY customer;
SELECT count(*) FILTER (WHERE mixed) AS mixed_segments, count(*) AS segments
  FROM (SELECT s.segment, count(DISTINCT r.customer_id % 2) > 1 AS mixed
          FROM segment_customers('sf_review_features'::regclass, 2, features => ARRAY['review'], components => 2) s
          JOIN sf_review_features r ON r.customer_id::text = s.customer_id GROUP BY 1) s;

DELETE FROM retailml.segment_models WHERE name IN ('kinds', 'skipping');
DROP TABLE sf_shoppers, sf_newcomers, sf_odd, sf_changed, sf_reviews, sf_review_features;
