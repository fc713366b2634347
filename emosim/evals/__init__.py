"""Evaluations of the observers and the critic against ground truth and human labels."""
