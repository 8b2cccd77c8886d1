"""Data quality: Great Expectations suites run on frames before they are published."""
