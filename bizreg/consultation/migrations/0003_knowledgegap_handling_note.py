from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("consultation", "0002_roles")]

    operations = [
        migrations.AddField(
            model_name="knowledgegap",
            name="handling_note",
            field=models.CharField(blank=True, max_length=300, verbose_name="处理说明"),
        )
    ]
