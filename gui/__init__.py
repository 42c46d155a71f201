"""Review Analyzer's face: windows, panels, widgets, and the workers that run core in threads."""
