"""Quality reports over runs and record files: figures, plots, an HTML page and a summary."""
