-- Reference data a new installation starts with. Each statement is safe to run again (ON CONFLICT DO NOTHING).

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
--> statement-breakpoint
-- The free plan every new account starts on (shared/DOMAIN.md "billing"). Re-running is harmless.
INSERT INTO "billing_plans" ("name", "slug", "price_cents", "currency", "interval", "monthly_credits", "max_sites", "max_users", "max_keywords", "features")
VALUES ('Free', 'free', 0, 'usd', 'month', 200, 5, 5, 100000, '["planner", "writer", "linker", "optimizer", "publisher"]'::jsonb)
ON CONFLICT ("slug") DO NOTHING;
--> statement-breakpoint
-- Credits per operation (shared/DOMAIN.md "costs"); staff edit them at /api/v1/admin/credit-costs/.
-- A request of `units` costs ceil(units / per_units) * credits. The free operations are listed so an estimate
-- of them answers 0 instead of "unknown operation". Re-running is harmless.
INSERT INTO "billing_credit_costs" ("operation", "credits", "per_units", "unit", "description") VALUES
  ('clustering_ai', 1, 20, 'keyword', 'AI clustering: 1 credit per 20 keywords'),
  ('idea_generation', 2, 1, 'cluster', 'Content ideas: 2 credits per cluster'),
  ('content_generation', 1, 100, 'target word', 'Article writing: 1 credit per 100 target words'),
  ('image_prompts', 1, 1, 'content', 'Image prompts: 1 credit per content'),
  ('image_generation', 5, 1, 'image', 'Image generation: 5 credits per image'),
  ('optimization', 1, 500, 'word', 'AI optimization: 1 credit per 500 words'),
  ('clustering_lexical', 0, 1, 'keyword', 'Lexical clustering is free'),
  ('linking', 0, 1, 'content', 'Internal linking is free'),
  ('publishing', 0, 1, 'content', 'Publishing is free')
ON CONFLICT ("operation") DO NOTHING;
