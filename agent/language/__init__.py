"""Language: the word lists and small readers shared by the planner and the feedback parser."""
