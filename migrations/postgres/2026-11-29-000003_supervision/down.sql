DROP TABLE list_submissions;
DROP TABLE measure_item_problems;
DROP TABLE measure_items;
DROP TABLE problem_item_hazards;
DROP TABLE problem_items;
DROP TABLE listings;
