"""学习台账: a group's monthly study records (workbook and chart), its roster, the reasons
admins note for absences, and the private reminders for members who have not studied yet."""
