"""Domain rules per area. Handlers and activities call services; services call store/
and integrations/."""
