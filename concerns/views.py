"""Pages after the walk: the officers' debrief, the survey, "you said, we did"; the reports."""

# --- After the walk (issue 6): debrief, survey, "you said, we did" --------------------------
# --- end of issue 6 -------------------------------------------------------------------------
