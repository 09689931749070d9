-- Reference data: the industries a site can belong to, with suggested sectors. Re-running is harmless.
INSERT INTO "auth_industries" ("name", "slug", "description", "suggested_sectors") VALUES
  ('Apparel & Footwear', 'apparel-footwear', 'Clothing, shoes and accessories.', '["running shoes", "trail running", "outdoor clothing", "sneakers", "workwear"]'::jsonb),
  ('Automotive', 'automotive', 'Cars, parts, servicing and dealerships.', '["car reviews", "maintenance", "electric vehicles", "parts & accessories"]'::jsonb),
  ('Beauty & Personal Care', 'beauty-personal-care', 'Cosmetics, skincare and grooming.', '["skincare", "makeup", "haircare", "fragrance"]'::jsonb),
  ('Education', 'education', 'Schools, courses and learning resources.', '["online courses", "test prep", "study guides", "careers"]'::jsonb),
  ('Finance', 'finance', 'Banking, investing, insurance and personal finance.', '["personal finance", "investing", "credit cards", "insurance", "mortgages"]'::jsonb),
  ('Food & Beverage', 'food-beverage', 'Recipes, restaurants, groceries and drinks.', '["recipes", "restaurants", "coffee", "wine", "nutrition"]'::jsonb),
  ('Health & Wellness', 'health-wellness', 'Medical information, fitness and wellbeing.', '["fitness", "nutrition", "mental health", "sleep", "supplements"]'::jsonb),
  ('Home & Garden', 'home-garden', 'Furniture, DIY, gardening and home improvement.', '["gardening", "diy", "furniture", "kitchen", "smart home"]'::jsonb),
  ('Legal', 'legal', 'Law firms and legal information.', '["personal injury", "family law", "immigration", "business law"]'::jsonb),
  ('Marketing & Advertising', 'marketing-advertising', 'Agencies, SEO, content and paid media.', '["seo", "content marketing", "social media", "email marketing", "ppc"]'::jsonb),
  ('Outdoor & Sports', 'outdoor-sports', 'Outdoor gear, sports and adventure.', '["camping", "hiking", "cycling", "climbing", "fishing"]'::jsonb),
  ('Pets', 'pets', 'Pet food, care, training and products.', '["dog training", "cat care", "pet food", "pet health"]'::jsonb),
  ('Real Estate', 'real-estate', 'Buying, selling, renting and property management.', '["buying a home", "renting", "property investment", "mortgages"]'::jsonb),
  ('Software & SaaS', 'software-saas', 'Software products, developer tools and B2B SaaS.', '["project management", "crm", "developer tools", "analytics", "security"]'::jsonb),
  ('Technology & Electronics', 'technology-electronics', 'Consumer electronics and gadgets.', '["smartphones", "laptops", "audio", "wearables", "gaming"]'::jsonb),
  ('Travel & Hospitality', 'travel-hospitality', 'Destinations, hotels, flights and guides.', '["destinations", "hotels", "travel tips", "flights"]'::jsonb)
ON CONFLICT ("slug") DO NOTHING;
