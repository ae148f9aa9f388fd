"""Helpers shared by the Rectified notebooks: data loading, plotting, small training loops."""
