-- Loads the prepared demo data (data/cache/demo/*.csv) into plain tables.
-- Run by scripts/demo.sh with psql from the checkout's root.
\set ON_ERROR_STOP 1
\timing off
SET client_min_messages = warning;

CREATE TABLE transactions (
  household_id int, store_id int, basket_id bigint, product_id int, quantity int,
  sales_value float8, retail_disc float8, coupon_disc float8, coupon_match_disc float8,
  week int, transaction_timestamp timestamptz);
\copy transactions FROM 'data/cache/demo/transactions.csv' WITH (FORMAT csv, HEADER true)

CREATE TABLE products (
  product_id int PRIMARY KEY, manufacturer_id int, department text, brand text,
  product_category text, product_type text, package_size text);
\copy products FROM 'data/cache/demo/products.csv' WITH (FORMAT csv, HEADER true)

CREATE TABLE demographics (
  household_id int PRIMARY KEY, age text, income text, home_ownership text, marital_status text,
  household_size text, household_comp text, kids_count text);
\copy demographics FROM 'data/cache/demo/demographics.csv' WITH (FORMAT csv, HEADER true)

CREATE TABLE reviews (review_id serial PRIMARY KEY, product text, review text, score text, split text);
\copy reviews (product, review, score, split) FROM 'data/cache/demo/reviews.csv' WITH (FORMAT csv, HEADER true)

CREATE TABLE product_photos (name text PRIMARY KEY, photo bytea);
\copy product_photos FROM 'data/cache/demo/photos.csv' WITH (FORMAT csv, HEADER true)

ANALYZE;
SELECT 'transactions' AS "table", count(*) AS "rows" FROM transactions
UNION ALL SELECT 'products', count(*) FROM products
UNION ALL SELECT 'demographics', count(*) FROM demographics
UNION ALL SELECT 'reviews', count(*) FROM reviews
UNION ALL SELECT 'product_photos', count(*) FROM product_photos;
