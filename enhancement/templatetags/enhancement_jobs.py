"""Template tags for the enhancement-jobs parts of the image pages (filled in by the jobs work)."""

from django import template

register = template.Library()


@register.inclusion_tag("enhancement/jobs/_panel.html", takes_context=True)
def jobs_panel(context, image):
    return {"image": image, "request": context.get("request")}
