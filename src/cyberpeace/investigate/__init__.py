"""Investigation: the case file and evidence locker (``case_file``), attribution records,
campaigns and recurring patterns."""
