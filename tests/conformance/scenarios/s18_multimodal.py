"""Multimodal user content: URLs and binary content in prompts, their properties and JSON form."""

from pydantic_ai import Agent
from pydantic_ai.messages import AudioUrl, BinaryContent, DocumentUrl, ImageUrl, ModelMessagesTypeAdapter
from pydantic_ai.models.test import TestModel

image = ImageUrl(url='https://example.com/cat.png')
print(image, image.media_type, image.format)
print(ImageUrl(url='https://example.com/cat.jpg').media_type)
audio = AudioUrl(url='https://example.com/a.mp3')
print(audio, audio.media_type)
doc = DocumentUrl(url='https://example.com/report.pdf')
print(doc, doc.media_type, doc.format)
binary = BinaryContent(data=b'\x89PNG\r\n', media_type='image/png')
print(binary, binary.is_image, binary.is_audio, binary.is_document, binary.format)
print(BinaryContent(data=b'%PDF', media_type='application/pdf').format)
print(BinaryContent(data=b'RIFF', media_type='audio/wav').format)

agent = Agent(TestModel(custom_result_text='seen'))
result = agent.run_sync(['Describe these', image, binary])
print(result.all_messages())
print(result.usage())
data = result.all_messages_json()
print(data.decode()[:400])
print(ModelMessagesTypeAdapter.validate_json(data)[0].parts[0].content[1])
try:
    ImageUrl(url='https://example.com/cat.bmp').media_type
except ValueError as error:
    print('ValueError', str(error).split(' (')[0])
