"""The ground floor: what every app stands on (the id field, the timestamped model, ids, rate
limiting, small formatting helpers). It imports no app and no settings module of ours."""
