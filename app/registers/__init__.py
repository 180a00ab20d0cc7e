"""The relationship's registers (risks, value, knowledge, exit triggers, action plans, issues): living tables
fed by the lifecycle's tasks and edited through forms, every change kept."""
